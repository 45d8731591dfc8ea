package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"github.com/go-chi/chi/v5"
)

type note struct {
	ID    int    `json:"id"`
	Title string `json:"title"`
	Body  string `json:"body"`
}

type store struct {
	mu    sync.Mutex
	notes []note
}

func newStore() *store { return &store{} }

func (s *store) add(title, body string) note {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := note{ID: len(s.notes) + 1, Title: title, Body: body}
	s.notes = append(s.notes, n)
	return n
}

func (s *store) list(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.notes)
}

func (s *store) create(w http.ResponseWriter, r *http.Request) {
	var in note
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Title == "" {
		http.Error(w, "want a JSON object with a title", http.StatusBadRequest)
		return
	}
	writeJSON(w, http.StatusCreated, s.add(in.Title, in.Body))
}

func (s *store) get(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(chi.URLParam(r, "id"))
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || id < 1 || id > len(s.notes) {
		http.NotFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, s.notes[id-1])
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
