// City.location = the mean of the coordinates of the users who live there and the events held
// there (etl/load, after every load, for the cities the load touched). Summed in a fixed order
// so that the same graph always gives the same bits, whichever way it was written.
UNWIND $names AS name
MATCH (c:City {name: name})
CALL (c) {
  OPTIONAL MATCH (c)<-[:LIVES_IN|IN_CITY]-(n)
  WITH n.location AS p
  ORDER BY p.latitude, p.longitude
  RETURN avg(p.latitude) AS lat, avg(p.longitude) AS lon
}
SET c.location = CASE WHEN lat IS NULL THEN null ELSE point({latitude: lat, longitude: lon}) END
