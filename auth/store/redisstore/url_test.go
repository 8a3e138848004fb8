package redisstore

import (
	"slices"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url      string
		mode     mode
		addrs    []string
		user     string
		pass     string
		db       int
		tls      bool
		master   string
		redacted string
	}{
		{url: "redis://localhost", addrs: []string{"localhost:6379"}, redacted: "redis://localhost"},
		{url: "redis://127.0.0.1:7000/3", addrs: []string{"127.0.0.1:7000"}, db: 3, redacted: "redis://127.0.0.1:7000/3"},
		{url: "redis://:s%40cret@h:1", addrs: []string{"h:1"}, pass: "s@cret", redacted: "redis://:xxxxx@h:1"},
		{url: "rediss://app:pw@cache.example:6380/1", addrs: []string{"cache.example:6380"}, user: "app", pass: "pw", db: 1, tls: true,
			redacted: "rediss://app:xxxxx@cache.example:6380/1"},
		{url: "redis://[::1]:7000", addrs: []string{"[::1]:7000"}, redacted: "redis://[::1]:7000"},
		{url: "redis-sentinel://s1,s2:5000/2?master=mymaster", mode: sentinel, addrs: []string{"s1:26379", "s2:5000"}, db: 2, master: "mymaster",
			redacted: "redis-sentinel://s1,s2:5000/2?master=mymaster"},
		{url: "rediss-sentinel://u:p@s1:26379?master=m&sentinel_password=q", mode: sentinel, addrs: []string{"s1:26379"}, user: "u", pass: "p", tls: true, master: "m",
			redacted: "rediss-sentinel://u:xxxxx@s1:26379?master=m&sentinel_password=xxxxx"},
		{url: "redis-cluster://n1:7000,n2:7001,n3", mode: cluster, addrs: []string{"n1:7000", "n2:7001", "n3:6379"},
			redacted: "redis-cluster://n1:7000,n2:7001,n3"},
		{url: "rediss-cluster://u:p@n1:7000/", mode: cluster, addrs: []string{"n1:7000"}, user: "u", pass: "p", tls: true,
			redacted: "rediss-cluster://u:xxxxx@n1:7000/"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := parseURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			o := got.option
			if got.mode != tt.mode || !slices.Equal(o.InitAddress, tt.addrs) || o.Username != tt.user || o.Password != tt.pass ||
				o.SelectDB != tt.db || (o.TLSConfig != nil) != tt.tls || o.Sentinel.MasterSet != tt.master {
				t.Errorf("parseURL = mode %d, %q, user %q, pass %q, db %d, tls %v, master %q",
					got.mode, o.InitAddress, o.Username, o.Password, o.SelectDB, o.TLSConfig != nil, o.Sentinel.MasterSet)
			}
			if o.ForceSingleClient != (tt.mode == standalone) {
				t.Errorf("ForceSingleClient = %v for mode %d", o.ForceSingleClient, tt.mode)
			}
			if got.redacted != tt.redacted {
				t.Errorf("redacted = %q, want %q", got.redacted, tt.redacted)
			}
			if tt.mode == sentinel && tt.pass != "" && o.Sentinel.Password != "q" {
				t.Errorf("sentinel password = %q", o.Sentinel.Password)
			}
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	tests := []struct{ url, want string }{
		{"localhost:6379", "not a URL"},
		{"http://localhost", "unknown scheme"},
		{"redis://a:1,b:2", "takes one address"},
		{"redis://h/x", "not a database number"},
		{"redis://h/1/2", "not a database number"},
		{"redis://h:99999", "no valid port"},
		{"redis://h:port", "invalid port"},
		{"redis://h,", "empty address"},
		{"redis://h?db=1", "unknown query parameter"},
		{"redis://h?master=m", "for redis-sentinel:// only"},
		{"redis-sentinel://s1", "needs ?master=NAME"},
		{"redis-cluster://n1/1", "only database 0"},
		{"redis://u:p%zz@h", "malformed URL"},
		{"redis://h#frag", "fragment"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := parseURL(tt.url)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parseURL(%q) = %v, want an error with %q", tt.url, err, tt.want)
			}
			if strings.Contains(err.Error(), "p%zz") {
				t.Errorf("the error quotes the password: %v", err)
			}
		})
	}
}
