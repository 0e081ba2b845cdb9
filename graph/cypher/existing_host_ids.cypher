// Which of $ids already exist as Host nodes (etl/validate: references to ids not in the files).
UNWIND $ids AS id
MATCH (n:Host {id: id})
RETURN n.id AS id
