MATCH (u:User)-[v:VIEWED]->(e:Event)
RETURN u.id AS user_id, e.id AS event_id, v.at.epochMillis AS at, v.count AS count
