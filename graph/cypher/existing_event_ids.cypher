// Which of $ids already exist as Event nodes (etl/validate: references to ids not in the files).
UNWIND $ids AS id
MATCH (n:Event {id: id})
RETURN n.id AS id
