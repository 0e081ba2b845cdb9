MATCH (u:User)-[i:INVITED_TO]->(e:Event)
RETURN u.id AS user_id, e.id AS event_id, i.at.epochMillis AS at, i.by AS by_user_id
