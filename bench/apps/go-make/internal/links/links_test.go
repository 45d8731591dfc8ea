package links

import "testing"

func TestSetGet(t *testing.T) {
	tab := New(nil)
	if err := tab.Set("docs", "https://example.com/docs"); err != nil {
		t.Fatal(err)
	}
	if err := tab.Set("bad", "ftp://example.com"); err != ErrBadURL {
		t.Fatalf("Set(ftp) = %v, want ErrBadURL", err)
	}
	if got, ok := tab.Get("docs"); !ok || got != "https://example.com/docs" {
		t.Fatalf("Get(docs) = %q, %v", got, ok)
	}
}
