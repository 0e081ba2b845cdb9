MATCH (h:Host)
OPTIONAL MATCH (runner:User)-[:RUNS]->(h)
RETURN h.id AS id, h.name AS name, h.kind AS kind, runner.id AS user_id
