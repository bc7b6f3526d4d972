package keel_test

import (
	"errors"
	"math"
	"testing"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/resp"
)

func near(a, b, tolerance float64) bool { return math.Abs(a-b) <= tolerance }

func TestGeoCommands(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	tag := "{" + k("geo") + "}"
	g := tag + "sicily"

	palermo := keel.GeoLocation{Name: "Palermo", Longitude: 13.361389, Latitude: 38.115556}
	catania := keel.GeoLocation{Name: "Catania", Longitude: 15.087269, Latitude: 37.502669}
	n, err := c.GeoAdd(ctx, g, palermo, catania)
	eq(t, "GeoAdd", n, err, 2)
	n, err = c.GeoAddWith(ctx, g, keel.GeoAddOptions{NX: true}, keel.GeoLocation{Name: "Palermo", Longitude: 0, Latitude: 0})
	eq(t, "GeoAddWith(NX, existing)", n, err, 0)
	n, err = c.GeoAddWith(ctx, g, keel.GeoAddOptions{XX: true}, keel.GeoLocation{Name: "Rome", Longitude: 12.5, Latitude: 41.9})
	eq(t, "GeoAddWith(XX, new)", n, err, 0)
	n, err = c.GeoAddWith(ctx, g, keel.GeoAddOptions{CH: true},
		keel.GeoLocation{Name: "Catania", Longitude: 15.087269, Latitude: 37.502669}, // unchanged
		keel.GeoLocation{Name: "Enna", Longitude: 14.279, Latitude: 37.567})
	eq(t, "GeoAddWith(CH)", n, err, 1)
	_, err = c.GeoAdd(ctx, g, keel.GeoLocation{Name: "Pole", Longitude: 0, Latitude: 89})
	wantServerError(t, "GeoAdd(out of range)", err, resp.ErrGeneric)

	d, err := c.GeoDist(ctx, g, "Palermo", "Catania", keel.Kilometers)
	if err != nil || !near(d, 166.2742, 1e-3) {
		t.Errorf("GeoDist(km) = %v, %v; want 166.2742", d, err)
	}
	d, err = c.GeoDist(ctx, g, "Palermo", "Catania", "")
	if err != nil || !near(d, 166274.1516, 1e-3) {
		t.Errorf("GeoDist(m) = %v, %v; want 166274.1516", d, err)
	}
	_, err = c.GeoDist(ctx, g, "Palermo", "Atlantis", keel.Miles)
	wantNil(t, "GeoDist(missing member)", err)

	pos, err := c.GeoPos(ctx, g, "Palermo", "Atlantis")
	if err != nil || len(pos) != 2 || !pos[0].Valid || pos[1].Valid ||
		!near(pos[0].Longitude, palermo.Longitude, 1e-5) || !near(pos[0].Latitude, palermo.Latitude, 1e-5) {
		t.Errorf("GeoPos = %+v, %v", pos, err)
	}
	hashes, err := c.GeoHash(ctx, g, "Palermo", "Atlantis")
	eqSlice(t, "GeoHash", hashes, err, []keel.NullString{{Value: "sqc8b49rny0", Valid: true}, {}})

	// Search around a point, nearest first, with everything.
	found, err := c.GeoSearch(ctx, g, keel.GeoSearchQuery{
		Longitude: 15, Latitude: 37, Radius: 200, Unit: keel.Kilometers, Sort: keel.GeoAsc,
		WithCoord: true, WithDist: true, WithHash: true,
	})
	must(t, err)
	wantNames(t, "GeoSearch(200 km)", found, "Catania", "Enna", "Palermo")
	if len(found) == 3 {
		ct, pa := found[0], found[2]
		if !near(ct.Dist, 56.4413, 1e-3) || !near(pa.Dist, 190.4424, 1e-3) {
			t.Errorf("distances = %v, %v; want 56.4413, 190.4424", ct.Dist, pa.Dist)
		}
		if ct.Hash != 3479447370796909 || !near(ct.Longitude, catania.Longitude, 1e-5) || !near(ct.Latitude, catania.Latitude, 1e-5) {
			t.Errorf("Catania = %+v", ct)
		}
	}
	found, err = c.GeoSearch(ctx, g, keel.GeoSearchQuery{FromMember: "Palermo", Radius: 100, Unit: keel.Kilometers})
	must(t, err)
	wantNames(t, "GeoSearch(from Palermo, 100 km)", found, "Palermo") // Enna is ~105 km away
	found, err = c.GeoSearch(ctx, g, keel.GeoSearchQuery{FromMember: "Palermo", Width: 400, Height: 200, Unit: keel.Kilometers, Sort: keel.GeoDesc, Count: 2, WithDist: true})
	must(t, err)
	wantNames(t, "GeoSearch(box, DESC, COUNT 2)", found, "Catania", "Enna")
	if len(found) == 2 && !(found[0].Dist > found[1].Dist) {
		t.Errorf("DESC distances = %v, %v", found[0].Dist, found[1].Dist)
	}
	found, err = c.GeoSearch(ctx, g, keel.GeoSearchQuery{Longitude: 15, Latitude: 37, Radius: 500, Unit: keel.Kilometers, Count: 1, Any: true})
	if err != nil || len(found) != 1 {
		t.Errorf("GeoSearch(COUNT 1 ANY) = %+v, %v; want one", found, err)
	}
	found, err = c.GeoSearch(ctx, tag+"missing", keel.GeoSearchQuery{Longitude: 15, Latitude: 37, Radius: 1})
	if err != nil || len(found) != 0 {
		t.Errorf("GeoSearch(missing key) = %+v, %v; want none", found, err)
	}
	_, err = c.GeoSearch(ctx, g, keel.GeoSearchQuery{FromMember: "Atlantis", Radius: 1})
	wantServerError(t, "GeoSearch(missing member)", err, resp.ErrGeneric)

	// Store: as an index, then as distances.
	dest := tag + "near"
	n, err = c.GeoSearchStore(ctx, dest, g, keel.GeoSearchQuery{Longitude: 15, Latitude: 37, Radius: 100, Unit: keel.Kilometers}, false)
	eq(t, "GeoSearchStore", n, err, 2)
	pos, err = c.GeoPos(ctx, dest, "Catania")
	if err != nil || len(pos) != 1 || !near(pos[0].Longitude, catania.Longitude, 1e-5) {
		t.Errorf("GeoPos(stored) = %+v, %v", pos, err)
	}
	n, err = c.GeoSearchStore(ctx, dest, g, keel.GeoSearchQuery{Longitude: 15, Latitude: 37, Radius: 100, Unit: keel.Kilometers, Sort: keel.GeoAsc}, true)
	eq(t, "GeoSearchStore(STOREDIST)", n, err, 2)
	zs, err := c.ZRangeWithScores(ctx, dest, 0, 0)
	if err != nil || len(zs) != 1 || zs[0].Member != "Catania" || !near(zs[0].Score, 56.4413, 1e-3) {
		t.Errorf("stored distances = %+v, %v; want Catania at 56.4413", zs, err)
	}
	if _, err := c.GeoSearchStore(ctx, k("elsewhere"), g, keel.GeoSearchQuery{FromMember: "Palermo", Radius: 1}, false); !errors.Is(err, keel.ErrCrossSlot) {
		t.Errorf("GeoSearchStore across slots: err = %v, want ErrCrossSlot", err)
	}
}

func wantNames(t *testing.T, what string, locs []keel.GeoLocation, names ...string) {
	t.Helper()
	got := make([]string, len(locs))
	for i, l := range locs {
		got[i] = l.Name
	}
	eqSlice(t, what, got, nil, names)
}
