package keel

import "context"

// Publish builds PUBLISH channel message: send message to the subscribers
// of channel (Subscribe) and of the patterns matching it (PSubscribe). Any
// node would spread it to every other; keel sends it to the primary owning
// the channel's slot, so that the messages one client publishes to one
// channel all leave from one node and reach subscribers in order. Its
// result is the number of clients that received it on that node, not in
// the whole cluster.
func Publish(channel string, message any) Cmd[int64] {
	m, err := argString(message)
	if err != nil {
		return failedCmd[int64]("PUBLISH", err)
	}
	return newCmd(toInt64, "PUBLISH", channel, m)
}

// Publish sends message to channel's subscribers; see Publish, the command.
func (c *Client) Publish(ctx context.Context, channel string, message any) (int64, error) {
	return exec(ctx, c, Publish(channel, message))
}

// SPublish builds SPUBLISH channel message: send message to the subscribers
// of the sharded channel (SSubscribe). It runs on the primary owning the
// channel's slot, which passes it to its replicas only; its result is the
// number of clients that received it there.
func SPublish(channel string, message any) Cmd[int64] {
	m, err := argString(message)
	if err != nil {
		return failedCmd[int64]("SPUBLISH", err)
	}
	return newCmd(toInt64, "SPUBLISH", channel, m)
}

// SPublish sends message to the sharded channel's subscribers; see
// SPublish, the command.
func (c *Client) SPublish(ctx context.Context, channel string, message any) (int64, error) {
	return exec(ctx, c, SPublish(channel, message))
}
