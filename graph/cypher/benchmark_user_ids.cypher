// User ids in id order, at most $limit (benchmarks/api_load.py samples request users from them).
MATCH (u:User)
RETURN u.id AS id
ORDER BY u.id
LIMIT $limit
