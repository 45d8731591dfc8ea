// notes-api keeps short notes in memory and serves them as JSON.
package main

import (
	"log"
	"net/http"
	"os"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

func main() {
	addr := os.Getenv("LISTEN_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	store := newStore()
	store.add("welcome", "the notes API is up")

	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	r.Route("/notes", func(r chi.Router) {
		r.Get("/", store.list)
		r.Post("/", store.create)
		r.Get("/{id}", store.get)
	})

	log.Printf("notes-api listening on %s", addr)
	log.Fatal(http.ListenAndServe(addr, r))
}
