MATCH (a:User)-[f:FRIENDS_WITH]->(b:User)
RETURN a.id AS user_id, b.id AS friend_id, f.since.epochMillis AS since
