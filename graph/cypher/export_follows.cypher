MATCH (u:User)-[f:FOLLOWS]->(h:Host)
RETURN u.id AS user_id, h.id AS host_id, f.at.epochMillis AS at
