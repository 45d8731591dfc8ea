package main

// The address schemes buildctl takes besides unix:// and tcp://, so that
// --buildkit-addr reaches the same engines: docker-container://NAME (a
// buildx builder), kube-pod://POD, podman-container://, nerdctl-container://,
// ssh://HOST, npipe:// (Windows).
import (
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"
	_ "github.com/moby/buildkit/client/connhelper/kubepod"
	_ "github.com/moby/buildkit/client/connhelper/nerdctlcontainer"
	_ "github.com/moby/buildkit/client/connhelper/npipe"
	_ "github.com/moby/buildkit/client/connhelper/podmancontainer"
	_ "github.com/moby/buildkit/client/connhelper/ssh"
)
