// Command api serves one JSON endpoint on localhost, calls it once and
// prints the answer, with what the process sees of its image: the user, the
// folder, a variable and the CA bundle.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
)

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"greeting": os.Getenv("GREETING") + ", world"})
	})
	go http.Serve(ln, mux)
	res, err := http.Get("http://localhost:" + fmt.Sprint(ln.Addr().(*net.TCPAddr).Port) + "/hello")
	if err != nil {
		fmt.Println("get:", err)
		os.Exit(1)
	}
	body, _ := io.ReadAll(res.Body)
	wd, _ := os.Getwd()
	_, certErr := os.Stat("/etc/ssl/certs/ca-certificates.crt")
	fmt.Printf("%s uid=%d cwd=%s certs=%v\n", body, os.Getuid(), wd, certErr == nil)
}
