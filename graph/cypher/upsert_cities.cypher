// Cities named by the users and events of a dataset (etl/load). The country comes from the
// dataset's events; a dataset that names none keeps the country the graph already has.
// The location (mean of its users' and events' coordinates) is set by city_locations.cypher.
UNWIND $rows AS row
MERGE (c:City {name: row.name})
SET c.country = coalesce(row.country, c.country)
