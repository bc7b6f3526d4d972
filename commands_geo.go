package keel

import (
	"context"
	"fmt"
	"math"

	"github.com/keel-go/keel/resp"
)

// Geospatial indexes: sorted sets whose members have a position.

// GeoLocation is a member of a geospatial index. GeoAdd reads Name,
// Longitude and Latitude; GeoSearch fills Name and what its query asked
// for (WithCoord, WithDist, WithHash).
type GeoLocation struct {
	Name                string
	Longitude, Latitude float64
	// Dist is the distance from the search's center, in its unit.
	Dist float64
	// Hash is the raw 52-bit geohash, the member's score.
	Hash int64
}

// GeoUnit is the unit of a distance.
type GeoUnit string

// The units of distances.
const (
	Meters     GeoUnit = "m"
	Kilometers GeoUnit = "km"
	Miles      GeoUnit = "mi"
	Feet       GeoUnit = "ft"
)

// unitArg returns u as sent, meters for "".
func unitArg(u GeoUnit) (string, error) {
	switch u {
	case "":
		return string(Meters), nil
	case Meters, Kilometers, Miles, Feet:
		return string(u), nil
	}
	return "", fmt.Errorf("%w: unit %q, want m, km, mi or ft", ErrArgument, string(u))
}

// GeoAddOptions are the options of GeoAddWith.
type GeoAddOptions struct {
	// NX only adds new members; XX only updates existing ones. Default:
	// both.
	NX, XX bool
	// CH makes the result count the members whose position changed too,
	// not only those added (the default).
	CH bool
}

// GeoAdd builds GEOADD key lon lat name…: add members with their positions
// to the index at key, or move them, creating the index if missing. Its
// result is how many were added. No locations, or a coordinate that is not
// a number, is ErrArgument; a position out of range fails with the server's
// error.
func GeoAdd(key string, locs ...GeoLocation) Cmd[int64] {
	return GeoAddWith(key, GeoAddOptions{}, locs...)
}

// GeoAdd adds or moves members of a geospatial index; see GeoAdd, the command.
func (c *Client) GeoAdd(ctx context.Context, key string, locs ...GeoLocation) (int64, error) {
	return exec(ctx, c, GeoAdd(key, locs...))
}

// GeoAddWith builds GEOADD key [NX|XX] [CH] lon lat name…: GeoAdd with
// options. NX with XX is ErrArgument.
func GeoAddWith(key string, o GeoAddOptions, locs ...GeoLocation) Cmd[int64] {
	switch {
	case len(locs) == 0:
		return failedCmd[int64]("GEOADD", fmt.Errorf("%w: no locations", ErrArgument))
	case o.NX && o.XX:
		return failedCmd[int64]("GEOADD", fmt.Errorf("%w: both NX and XX", ErrArgument))
	}
	args := make([]string, 0, 4+3*len(locs))
	args = append(args, "GEOADD", key)
	if o.NX {
		args = append(args, "NX")
	}
	if o.XX {
		args = append(args, "XX")
	}
	if o.CH {
		args = append(args, "CH")
	}
	for _, l := range locs {
		if math.IsNaN(l.Longitude) || math.IsNaN(l.Latitude) {
			return failedCmd[int64]("GEOADD", fmt.Errorf("%w: %s: NaN coordinate", ErrArgument, l.Name))
		}
		args = append(args, formatFloat(l.Longitude), formatFloat(l.Latitude), l.Name)
	}
	return argsCmd(toInt64, args)
}

// GeoAddWith adds or moves members of a geospatial index, with options; see
// GeoAddWith, the command.
func (c *Client) GeoAddWith(ctx context.Context, key string, o GeoAddOptions, locs ...GeoLocation) (int64, error) {
	return exec(ctx, c, GeoAddWith(key, o, locs...))
}

// GeoDist builds GEODIST key member1 member2 unit: its result is the
// distance between two members in unit ("" is meters). A missing member or
// key is ErrNil; an unknown unit is ErrArgument.
func GeoDist(key, member1, member2 string, unit GeoUnit) Cmd[float64] {
	u, err := unitArg(unit)
	if err != nil {
		return failedCmd[float64]("GEODIST", err)
	}
	return newCmd(toFloat, "GEODIST", key, member1, member2, u)
}

// GeoDist returns the distance between two members; see GeoDist, the command.
func (c *Client) GeoDist(ctx context.Context, key, member1, member2 string, unit GeoUnit) (float64, error) {
	return exec(ctx, c, GeoDist(key, member1, member2, unit))
}

// GeoPosition is the position of a member; Valid is false for a missing member.
type GeoPosition struct {
	Longitude, Latitude float64
	Valid               bool
}

// GeoPos builds GEOPOS key member…: its result is the positions of
// members, in order. No members is ErrArgument.
func GeoPos(key string, members ...string) Cmd[[]GeoPosition] {
	return keyListCmd(toGeoPositions, "GEOPOS", key, members, errNoMembers)
}

// GeoPos returns the positions of members; see GeoPos, the command.
func (c *Client) GeoPos(ctx context.Context, key string, members ...string) ([]GeoPosition, error) {
	return exec(ctx, c, GeoPos(key, members...))
}

// GeoHash builds GEOHASH key member…: its result is the members' 11
// character geohashes, in order, not Valid for a missing member. No members
// is ErrArgument.
func GeoHash(key string, members ...string) Cmd[[]NullString] {
	return keyListCmd(toNullStrings, "GEOHASH", key, members, errNoMembers)
}

// GeoHash returns the geohashes of members; see GeoHash, the command.
func (c *Client) GeoHash(ctx context.Context, key string, members ...string) ([]NullString, error) {
	return exec(ctx, c, GeoHash(key, members...))
}

// GeoSort orders the results of a search by distance from its center.
type GeoSort string

// The orders of search results; "" leaves them unsorted.
const (
	GeoAsc  GeoSort = "ASC"  // nearest first
	GeoDesc GeoSort = "DESC" // farthest first
)

// GeoSearchQuery is what GeoSearch and GeoSearchStore look for: the members
// within a circle or a box around a center.
type GeoSearchQuery struct {
	// FromMember is the member at the center (FROMMEMBER); when "", the
	// center is at Longitude, Latitude (FROMLONLAT).
	FromMember          string
	Longitude, Latitude float64
	// Radius searches a circle (BYRADIUS); Width and Height a box centered
	// on the center (BYBOX). Exactly one shape must be given, with
	// positive sizes.
	Radius, Width, Height float64
	// Unit is the unit of the sizes and of the distances returned;
	// default meters.
	Unit GeoUnit
	// Sort orders the results; default unsorted.
	Sort GeoSort
	// Count bounds the results (COUNT); 0 returns them all. With Any, the
	// search stops at the first Count found, which are then not
	// necessarily the nearest (ANY).
	Count int64
	Any   bool
	// WithCoord, WithDist and WithHash fill GeoLocation's Longitude and
	// Latitude, Dist and Hash. GeoSearchStore refuses them.
	WithCoord, WithDist, WithHash bool
}

// args appends the query's options after the command's keys.
func (q GeoSearchQuery) args(args []string) ([]string, error) {
	unit, err := unitArg(q.Unit)
	if err != nil {
		return nil, err
	}
	if q.FromMember != "" {
		args = append(args, "FROMMEMBER", q.FromMember)
	} else {
		if math.IsNaN(q.Longitude) || math.IsNaN(q.Latitude) {
			return nil, fmt.Errorf("%w: NaN center", ErrArgument)
		}
		args = append(args, "FROMLONLAT", formatFloat(q.Longitude), formatFloat(q.Latitude))
	}
	circle, box := q.Radius != 0, q.Width != 0 || q.Height != 0
	switch {
	case circle == box:
		return nil, fmt.Errorf("%w: give Radius, or Width and Height", ErrArgument)
	case circle && !(q.Radius > 0):
		return nil, fmt.Errorf("%w: Radius %v, want a positive size", ErrArgument, q.Radius)
	case box && !(q.Width > 0 && q.Height > 0):
		return nil, fmt.Errorf("%w: box %v×%v, want positive sizes", ErrArgument, q.Width, q.Height)
	case circle:
		args = append(args, "BYRADIUS", formatFloat(q.Radius), unit)
	default:
		args = append(args, "BYBOX", formatFloat(q.Width), formatFloat(q.Height), unit)
	}
	switch q.Sort {
	case "":
	case GeoAsc, GeoDesc:
		args = append(args, string(q.Sort))
	default:
		return nil, fmt.Errorf("%w: sort %q, want GeoAsc or GeoDesc", ErrArgument, string(q.Sort))
	}
	switch {
	case q.Count < 0:
		return nil, errCount(q.Count)
	case q.Any && q.Count == 0:
		return nil, fmt.Errorf("%w: Any without Count", ErrArgument)
	case q.Count > 0:
		args = append(args, "COUNT", formatInt(q.Count))
		if q.Any {
			args = append(args, "ANY")
		}
	}
	return args, nil
}

// GeoSearch builds GEOSEARCH key FROMMEMBER|FROMLONLAT … BYRADIUS|BYBOX …
// [ASC|DESC] [COUNT n [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]: its result
// is the members within the query's shape, each with what the query asked
// for. A missing key gives none; a missing FromMember fails with the
// server's error. A query without exactly one shape, with sizes that are not
// positive, or with an unknown unit or sort is ErrArgument.
func GeoSearch(key string, q GeoSearchQuery) Cmd[[]GeoLocation] {
	args, err := q.args([]string{"GEOSEARCH", key})
	if err != nil {
		return failedCmd[[]GeoLocation]("GEOSEARCH", err)
	}
	var with geoWith
	if q.WithCoord {
		args = append(args, "WITHCOORD")
		with |= withCoord
	}
	if q.WithDist {
		args = append(args, "WITHDIST")
		with |= withDist
	}
	if q.WithHash {
		args = append(args, "WITHHASH")
		with |= withHash
	}
	return argsCmd(with.parse, args)
}

// GeoSearch finds the members within an area; see GeoSearch, the command.
func (c *Client) GeoSearch(ctx context.Context, key string, q GeoSearchQuery) ([]GeoLocation, error) {
	return exec(ctx, c, GeoSearch(key, q))
}

// GeoSearchStore builds GEOSEARCHSTORE dest source … [STOREDIST]: store at
// dest the members of source that GeoSearch would find, as a geospatial
// index, or with storeDist as a sorted set scored by distance. Its result is
// how many were stored. dest and source must be in one slot (use a hash
// tag), or it fails with ErrCrossSlot. A query with WithCoord, WithDist or
// WithHash is ErrArgument, as are GeoSearch's bad queries.
func GeoSearchStore(dest, source string, q GeoSearchQuery, storeDist bool) Cmd[int64] {
	if q.WithCoord || q.WithDist || q.WithHash {
		return failedCmd[int64]("GEOSEARCHSTORE", fmt.Errorf("%w: WithCoord, WithDist and WithHash do not apply to a store", ErrArgument))
	}
	args, err := q.args([]string{"GEOSEARCHSTORE", dest, source})
	if err != nil {
		return failedCmd[int64]("GEOSEARCHSTORE", err)
	}
	if storeDist {
		args = append(args, "STOREDIST")
	}
	return argsCmd(toInt64, args)
}

// GeoSearchStore stores the members within an area; see GeoSearchStore, the
// command.
func (c *Client) GeoSearchStore(ctx context.Context, dest, source string, q GeoSearchQuery, storeDist bool) (int64, error) {
	return exec(ctx, c, GeoSearchStore(dest, source, q, storeDist))
}

// geoWith is what a GEOSEARCH reply holds besides names.
type geoWith uint8

const (
	withCoord geoWith = 1 << iota
	withDist
	withHash
)

// parse converts a GEOSEARCH reply: names alone, or for each member an
// array of its name then, in this order, its distance, hash and [lon, lat]
// as asked.
func (w geoWith) parse(v Value, err error) ([]GeoLocation, error) {
	if err != nil {
		return nil, err
	}
	return resp.ConvertElems(v, w.location)
}

func (w geoWith) location(e Value) (GeoLocation, error) {
	var l GeoLocation
	var err error
	if w == 0 {
		l.Name, err = e.Text()
		return l, err
	}
	want := 1
	for f := withCoord; f <= withHash; f <<= 1 {
		if w&f != 0 {
			want++
		}
	}
	if e.Kind != resp.KindArray || len(e.Elems) != want {
		return l, fmt.Errorf("%w: want a member with %d elements, got %s", resp.ErrType, want, e)
	}
	if l.Name, err = e.Elems[0].Text(); err != nil {
		return l, err
	}
	rest := e.Elems[1:]
	if w&withDist != 0 {
		if l.Dist, err = rest[0].Float64(); err != nil {
			return l, err
		}
		rest = rest[1:]
	}
	if w&withHash != 0 {
		if l.Hash, err = rest[0].Int64(); err != nil {
			return l, err
		}
		rest = rest[1:]
	}
	if w&withCoord != 0 {
		p, err := toGeoPos(rest[0])
		if err != nil {
			return l, err
		}
		l.Longitude, l.Latitude = p.Longitude, p.Latitude
	}
	return l, nil
}

// toGeoPos converts a [lon, lat] pair, doubles in RESP3 and strings in
// RESP2; null is a GeoPosition that is not Valid.
func toGeoPos(v Value) (GeoPosition, error) {
	if v.IsNull() {
		return GeoPosition{}, nil
	}
	if v.Kind != resp.KindArray || len(v.Elems) != 2 {
		return GeoPosition{}, fmt.Errorf("%w: want [longitude latitude], got %s", resp.ErrType, v)
	}
	lon, err := v.Elems[0].Float64()
	if err != nil {
		return GeoPosition{}, err
	}
	lat, err := v.Elems[1].Float64()
	if err != nil {
		return GeoPosition{}, err
	}
	return GeoPosition{Longitude: lon, Latitude: lat, Valid: true}, nil
}

// toGeoPositions is the parse of GEOPOS.
func toGeoPositions(v Value, err error) ([]GeoPosition, error) {
	if err != nil {
		return nil, err
	}
	return resp.ConvertElems(v, toGeoPos)
}
