// Command ids serves a new random UUID for every request.
package main

import (
	"fmt"
	"log"
	"net/http"

	"github.com/google/uuid"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, uuid.NewString())
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
