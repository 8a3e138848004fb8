package redisstore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/rueidis"
)

// mode is the kind of deployment a URL names.
type mode int

const (
	standalone mode = iota
	sentinel
	cluster
)

// target is what a URL says: where Redis is and how to reach it.
type target struct {
	mode     mode
	option   rueidis.ClientOption // addresses, credentials, database, TLS, master set
	redacted string               // the URL without its passwords, for messages
}

// parseURL reads the URL forms of the package doc. Each address gets the
// default port of its kind when it has none: 6379, or 26379 for a
// Sentinel.
func parseURL(raw string) (target, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return target{}, errors.New("not a URL: want redis://, rediss://, redis-sentinel://, redis-cluster:// or their TLS forms")
	}
	var t target
	var useTLS bool
	switch strings.ToLower(scheme) {
	case "redis":
	case "rediss":
		useTLS = true
	case "redis-sentinel":
		t.mode = sentinel
	case "rediss-sentinel":
		t.mode, useTLS = sentinel, true
	case "redis-cluster":
		t.mode = cluster
	case "rediss-cluster":
		t.mode, useTLS = cluster, true
	default:
		return target{}, fmt.Errorf("unknown scheme %q: want redis, rediss, redis-sentinel, rediss-sentinel, redis-cluster or rediss-cluster", scheme)
	}

	// The host part may list several addresses separated by commas,
	// which net/url does not accept: parse the URL with the first one and
	// keep the others aside.
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo, hosts := "", authority
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo, hosts = authority[:at+1], authority[at+1:]
	}
	list := strings.Split(hosts, ",")
	u, err := url.Parse(scheme + "://" + userinfo + list[0] + tail)
	if err != nil {
		return target{}, redactErr(err)
	}
	if u.Fragment != "" {
		return target{}, errors.New("a fragment (#…) means nothing here")
	}
	defPort := "6379"
	if t.mode == sentinel {
		defPort = "26379"
	}
	opt := &t.option
	for _, h := range list {
		addr, err := hostPort(h, defPort)
		if err != nil {
			return target{}, err
		}
		opt.InitAddress = append(opt.InitAddress, addr)
	}
	if len(list) > 1 && t.mode == standalone {
		return target{}, fmt.Errorf("%s:// takes one address; several are for redis-sentinel:// or redis-cluster://", scheme)
	}
	if u.User != nil {
		opt.Username = u.User.Username()
		opt.Password, _ = u.User.Password()
	}
	switch p := strings.TrimPrefix(u.Path, "/"); {
	case p == "":
	case t.mode == cluster:
		return target{}, fmt.Errorf("a Cluster has only database 0; drop the path %q", u.Path)
	default:
		db, err := strconv.Atoi(p)
		if err != nil || db < 0 {
			return target{}, fmt.Errorf("the path %q is not a database number", u.Path)
		}
		opt.SelectDB = db
	}

	q := u.Query()
	for k := range q {
		if !slices.Contains([]string{"master", "sentinel_user", "sentinel_password"}, k) {
			return target{}, fmt.Errorf("unknown query parameter %q", k)
		}
		if t.mode != sentinel {
			return target{}, fmt.Errorf("the query parameter %q is for redis-sentinel:// only", k)
		}
	}
	if t.mode == sentinel {
		opt.Sentinel.MasterSet = q.Get("master")
		if opt.Sentinel.MasterSet == "" {
			return target{}, errors.New("redis-sentinel:// needs ?master=NAME, the name of the monitored master")
		}
		opt.Sentinel.Username = q.Get("sentinel_user")
		opt.Sentinel.Password = q.Get("sentinel_password")
	}
	if useTLS {
		// No ServerName: the TLS dialer takes it from each address.
		opt.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		if t.mode == sentinel {
			opt.Sentinel.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
	}
	if t.mode == standalone {
		// The URL says what it is: do not probe for a Cluster.
		opt.ForceSingleClient = true
	}

	red := *u
	if _, has := red.User.Password(); has {
		red.User = url.UserPassword(red.User.Username(), "xxxxx")
	}
	if q.Has("sentinel_password") {
		q.Set("sentinel_password", "xxxxx")
		red.RawQuery = q.Encode()
	}
	red.Host = hosts
	t.redacted = red.String()
	return t, nil
}

// hostPort checks one address of the host list and adds the default port.
func hostPort(h, defPort string) (string, error) {
	if h == "" {
		return "", errors.New("an empty address in the host list")
	}
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		// No port: the whole thing is the host ("example", "[::1]").
		host, port = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), defPort
	}
	if host == "" {
		return "", fmt.Errorf("the address %q has no host", h)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("the address %q has no valid port", h)
	}
	return net.JoinHostPort(host, port), nil
}

// redactErr drops the text of a url.Error, which quotes the whole URL,
// password included.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("malformed URL: %w", ue.Err)
	}
	return err
}
