// Stage 1 of the funnel: a few hundred candidate events per user, with their sources and the
// facts behind the reasons, in ONE round trip for a batch of requests (graph/candidates.py).
//
// Parameters: $requests [{user_id, lat, lon}], $now and $until (datetimes; $now is the replay
// moment, never the server's clock), $radius_m (already capped), $region_m (>= $radius_m: the
// area of the popular and category sources), $quota (slots per source), $limit (slots in all),
// $fav_categories (favourite categories used), $host_events (events read per host), $profile
// (also return the user's profile for feature assembly).
//
// Every ORDER BY ends in an id: ties never make the answer depend on the plan or the batch.
// Time: every fact is read as of $now: registrations, invitations and follows at or before it.
// Every source keeps upcoming events only: start in ($now, $until], not cancelled, not already
// answered by the user (any REGISTERED at or before $now).
// Popularity = registrations (any status) made up to $now. When no registration in the graph is
// dated after $now (live serving) that is the node's degree, read from the store without touching
// a relationship; when replaying a past cutoff it is counted with the time filter.
WITH NOT EXISTS { MATCH ()-[r:REGISTERED]->() WHERE r.at > $now } AS live
UNWIND $requests AS req
OPTIONAL MATCH (u:User {id: req.user_id})
WITH live, req, u,
     CASE WHEN req.lat IS NULL OR req.lon IS NULL THEN u.location
          ELSE point({latitude: req.lat, longitude: req.lon}) END AS origin
CALL (live, u, origin) {
  // --- the user's own history up to now: answered events, attended hosts, categories --------
  CALL (u) {
    OPTIONAL MATCH (u)-[r:REGISTERED]->(pe:Event)
    WHERE r.at <= $now
    RETURN collect(pe) AS answered,
           collect(CASE WHEN coalesce(r.status, 'going') = 'going' THEN pe END) AS went
  }
  CALL (went) {
    UNWIND went AS pe
    MATCH (pe)<-[:HOSTS]-(h:Host)
    WITH h, count(pe) AS n
    RETURN collect({h: h, n: n}) AS attended
  }
  CALL (went) {
    UNWIND went AS pe
    WITH pe.category AS c, count(pe) AS n
    WHERE c IS NOT NULL
    ORDER BY n DESC, c
    LIMIT $fav_categories
    RETURN collect(c) AS favs
  }
  CALL (u) {
    OPTIONAL MATCH (u)-[f:FOLLOWS]->(h:Host)
    WHERE f.at IS NULL OR f.at <= $now
    RETURN collect(DISTINCT h) AS followed
  }

  // --- friends: their going registrations, aggregated once per event -------------------------
  CALL (u, answered) {
    OPTIONAL MATCH (u)-[fw:FRIENDS_WITH]-(f:User)-[r:REGISTERED]->(e:Event)
    WHERE f <> u AND r.at <= $now AND coalesce(r.status, 'going') = 'going'
      AND (fw.since IS NULL OR fw.since <= $now)
      AND e.start_time > $now AND e.start_time <= $until
      AND NOT coalesce(e.status, '') IN ['cancelled', 'canceled']
      AND NOT e IN answered
    WITH e, f, r ORDER BY r.at, f.id
    WITH e, collect(DISTINCT f) AS fs
    WHERE e IS NOT NULL
    ORDER BY size(fs) DESC, e.start_time, e.id
    RETURN collect({e: e, n: size(fs), fr: [f IN fs[..3] | [f.id, f.name]]}) AS friends
  }

  // --- invitations received up to now -------------------------------------------------------
  CALL (u, answered) {
    OPTIONAL MATCH (u)-[i:INVITED_TO]->(e:Event)
    WHERE i.at <= $now AND e.start_time > $now AND e.start_time <= $until
      AND NOT coalesce(e.status, '') IN ['cancelled', 'canceled']
      AND NOT e IN answered
    WITH e, i ORDER BY i.at DESC, i.by
    WITH e, collect(DISTINCT i.by) AS by, max(i.at) AS last
    WHERE e IS NOT NULL
    ORDER BY last DESC, e.start_time, e.id
    RETURN collect({e: e, by: by}) AS invited
  }

  // --- upcoming events of hosts the user attended or follows ---------------------------------
  CALL (answered, attended, followed) {
    UNWIND attended + [h IN followed | {h: h, n: 0}] AS a
    WITH a.h AS h, max(a.n) AS n
    CALL (h) {
      MATCH (h)-[:HOSTS]->(e:Event)
      WHERE e.start_time > $now AND e.start_time <= $until
        AND NOT coalesce(e.status, '') IN ['cancelled', 'canceled']
      RETURN e ORDER BY e.start_time, e.id LIMIT $host_events
    }
    WITH h, n, e
    WHERE NOT e IN answered
    WITH e, max(n) AS n, max(CASE WHEN h IN followed THEN 1 ELSE 0 END) AS fh
    ORDER BY n DESC, fh DESC, e.start_time, e.id
    RETURN collect({e: e, n: n, fh: fh}) AS hosted
  }

  // --- the region around the origin: nearby, popular and favourite-category events -----------
  // One index seek (the planner picks the start-time range index or the point index) feeds
  // three sources.
  CALL (live, answered, origin) {
    UNWIND CASE WHEN origin IS NULL THEN [] ELSE [origin] END AS o
    MATCH (e:Event)
    WHERE e.start_time > $now AND e.start_time <= $until
      AND point.distance(e.location, o) <= $region_m
    WITH live, answered, e, point.distance(e.location, o) AS d
    WHERE NOT coalesce(e.status, '') IN ['cancelled', 'canceled'] AND NOT e IN answered
    RETURN collect({
      e: e, d: d,
      pop: CASE WHEN live THEN COUNT { (e)<-[:REGISTERED]-() }
                ELSE COUNT { (e)<-[r:REGISTERED]-() WHERE r.at <= $now } END
    }) AS region
  }
  // Nothing in the region (or no origin for a known user): popular events anywhere.
  CALL (live, answered, u, origin, region) {
    UNWIND CASE WHEN size(region) = 0 AND (u IS NOT NULL OR origin IS NOT NULL)
                THEN [true] ELSE [] END AS anywhere
    MATCH (e:Event)
    WHERE e.start_time > $now AND e.start_time <= $until
    WITH live, answered, e
    WHERE NOT coalesce(e.status, '') IN ['cancelled', 'canceled'] AND NOT e IN answered
    WITH e, CASE WHEN live THEN COUNT { (e)<-[:REGISTERED]-() }
                 ELSE COUNT { (e)<-[r:REGISTERED]-() WHERE r.at <= $now } END AS pop
    WHERE pop > 0
    ORDER BY pop DESC, e.start_time, e.id
    LIMIT $limit
    RETURN collect({e: e, d: null, pop: pop}) AS anywhere
  }
  CALL (region) {
    UNWIND region AS x
    WITH x WHERE x.d <= $radius_m
    ORDER BY x.d, x.e.start_time, x.e.id
    LIMIT $quota
    RETURN collect(x) AS nearby
  }
  CALL (region, anywhere) {
    UNWIND region + anywhere AS x
    WITH x WHERE x.pop > 0
    ORDER BY x.pop DESC, x.d, x.e.start_time, x.e.id
    LIMIT $limit
    RETURN collect(x) AS popular
  }
  CALL (region, favs) {
    UNWIND region AS x
    WITH x WHERE x.e.category IN favs
    ORDER BY x.pop DESC, x.d, x.e.start_time, x.e.id
    LIMIT $quota
    RETURN collect(x) AS category
  }

  // --- merge: one row per event; a source claims a slot by its rank over its quota ------------
  // Sources interleave by rank / quota, so none floods the slots; popular only fills what is
  // left. Rows past a source's quota (p: null) still bring their facts to events chosen by
  // others. Source bits: nearby 1, friends 2, invited 4, host 8, category 16, popular 32.
  UNWIND
    [i IN range(0, size(nearby) - 1) |
      {e: nearby[i].e, s: 1, p: toFloat(i) / $quota, pop: nearby[i].pop}] +
    [i IN range(0, size(friends) - 1) |
      {e: friends[i].e, s: 2, p: CASE WHEN i < $quota THEN toFloat(i) / $quota END,
       fn: friends[i].n, fr: friends[i].fr}] +
    [i IN range(0, size(invited) - 1) |
      {e: invited[i].e, s: 4, p: CASE WHEN i < $quota THEN toFloat(i) / $quota END,
       inv: invited[i].by}] +
    [i IN range(0, size(hosted) - 1) |
      {e: hosted[i].e, s: 8, p: CASE WHEN i < $quota THEN toFloat(i) / $quota END,
       ha: hosted[i].n, fh: hosted[i].fh}] +
    [i IN range(0, size(category) - 1) |
      {e: category[i].e, s: 16, p: toFloat(i) / $quota, pop: category[i].pop}] +
    [i IN range(0, size(popular) - 1) |
      {e: popular[i].e, s: 32, p: 1.0 + toFloat(i) / $limit, pop: popular[i].pop}]
    AS row
  WITH origin, row.e AS e,
       collect(DISTINCT CASE WHEN row.p IS NOT NULL THEN row.s END) AS bits,
       min(row.p) AS priority,
       max(row.fn) AS friends_going, head(collect(row.fr)) AS friends,
       head(collect(row.inv)) AS invited_by,
       max(row.ha) AS host_attended, max(row.fh) AS follows_host,
       max(row.pop) AS popularity
  WHERE priority IS NOT NULL
  ORDER BY priority, e.start_time, e.id
  LIMIT $limit
  // One positional list per candidate (graph/candidates.py reads it): fewer bytes than maps.
  RETURN collect([
    e.id, reduce(b = 0, s IN bits | b + s), e.start_time.epochMillis, e.title, e.category,
    e.location.latitude, e.location.longitude, point.distance(e.location, origin),
    coalesce(friends_going, 0), coalesce(friends, []),
    coalesce(invited_by, []),
    [b IN coalesce(invited_by, []) | head(COLLECT { MATCH (x:User {id: b}) RETURN x.name })],
    coalesce(host_attended, 0), coalesce(follows_host, 0) > 0, popularity,
    head(COLLECT { MATCH (e)<-[:HOSTS]-(h:Host) RETURN [h.id, h.name] }), e.price, e.city
  ]) AS items
}
// With $profile (the API asks for it): what the pair features need to know about the user as of
// now: home, going registrations with their events' attributes, views, followed hosts.
CALL (u) {
  RETURN CASE WHEN $profile AND u IS NOT NULL THEN {
    lat: u.location.latitude, lon: u.location.longitude,
    went: COLLECT {
      MATCH (u)-[r:REGISTERED]->(pe:Event)
      WHERE r.at <= $now AND coalesce(r.status, 'going') = 'going'
      RETURN [pe.id, r.at.epochMillis, pe.start_time.epochMillis, pe.category,
              pe.location.latitude, pe.location.longitude, pe.price,
              head(COLLECT { MATCH (pe)<-[:HOSTS]-(h:Host) RETURN h.id })]
    },
    views: COLLECT {
      MATCH (u)-[v:VIEWED]->(ve:Event) WHERE v.at <= $now RETURN [ve.id, v.at.epochMillis, v.count]
    },
    follows: COLLECT {
      MATCH (u)-[f:FOLLOWS]->(h:Host) WHERE f.at IS NULL OR f.at <= $now RETURN h.id
    }
  } END AS profile
}
RETURN req.user_id AS user_id, u IS NOT NULL AS known_user, items, profile
