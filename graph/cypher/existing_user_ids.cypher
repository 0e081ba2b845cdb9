// Which of $ids already exist as User nodes (etl/validate: references to ids not in the files).
UNWIND $ids AS id
MATCH (n:User {id: id})
RETURN n.id AS id
