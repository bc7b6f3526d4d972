package peers

import (
	"sync"

	"github.com/keel-go/keel/cmd/keel/internal/drill"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"
)

// quietGoRedis silences go-redis's package-wide logger, which otherwise
// prints a line to stderr for every failed dial: hundreds a second while a
// node is down, burying the drill's own output. The drill measures what
// the client returns to its caller, not what it logs.
var quietGoRedis = sync.OnceFunc(func() { redis.SetLogger(&logging.VoidLogger{}) })

// Drivers returns the peer drivers in the order a report lists them:
// go-redis with its defaults, go-redis tuned as its documentation
// recommends, and rueidis with its defaults.
func Drivers() []drill.Driver {
	quietGoRedis()
	return []drill.Driver{
		goRedisDriver{name: "go-redis"},
		goRedisDriver{name: "go-redis (tuned)", tuned: true},
		rueidisDriver{name: "rueidis"},
	}
}
