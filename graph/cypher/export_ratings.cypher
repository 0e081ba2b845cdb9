MATCH (u:User)-[r:RATED]->(e:Event)
RETURN u.id AS user_id, e.id AS event_id, r.stars AS stars, r.at.epochMillis AS at
