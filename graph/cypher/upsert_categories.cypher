// Categories named by the events of a dataset (etl/load).
UNWIND $rows AS row
MERGE (:Category {name: row.name})
