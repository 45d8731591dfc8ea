// shortlink redirects /NAME to the URL NAME stands for; GET / lists the names.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"

	"example.com/shortlink/internal/links"
)

var version = "dev"

func main() {
	addr := ":8000"
	if port := os.Getenv("PORT"); port != "" {
		addr = ":" + port
	}
	table := links.New(map[string]string{
		"docs":   "https://example.com/docs",
		"status": "https://status.example.com/",
		"wiki":   "https://wiki.example.com/Main_Page",
	})

	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		name := strings.Trim(r.URL.Path, "/")
		if name == "" {
			fmt.Fprintf(w, "shortlink %s\n", version)
			for _, n := range table.Names() {
				target, _ := table.Get(n)
				fmt.Fprintf(w, "/%s -> %s\n", n, target)
			}
			return
		}
		target, ok := table.Get(name)
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, target, http.StatusFound)
	})

	log.Printf("shortlink %s listening on %s", version, addr)
	log.Fatal(http.ListenAndServe(addr, nil))
}
