MATCH (u:User)-[r:REGISTERED]->(e:Event)
RETURN u.id AS user_id, e.id AS event_id, r.at.epochMillis AS at, r.status AS status
