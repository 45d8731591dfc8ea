// Package imagefs reads the file systems and configurations of container
// images and compares two of them: every path with its type, mode, owner,
// size, content (sha256), link target, device and extended attributes, times
// aside; and the run-time configuration a rewrite must keep.
//
// It is shared by dfopt verify, which reads images as BuildKit exports them
// (OCI layouts, layers applied in order with their whiteouts), and by the
// real-build tests, which read what docker export writes. It also knows what
// dfopt's rules take out of an image on purpose (Locations: the package
// managers' caches and indexes), so that a comparison can set those paths
// apart and list them, never hide them.
package imagefs
