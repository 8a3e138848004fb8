package auth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

type failingPage struct{}

func (failingPage) Render(ctx context.Context, _ io.Writer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.New("broken template")
}

// TestRenderVisitorLeft: a page whose visitor left while it rendered is
// answered with its own status, not a 500 (which would read as a fault);
// a page that fails for a live visitor is a 500.
func TestRenderVisitorLeft(t *testing.T) {
	a := originTestAuth(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := httptest.NewRecorder()
	a.render(w, httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx), http.StatusServiceUnavailable, failingPage{})
	if w.Code != http.StatusServiceUnavailable || w.Body.Len() != 0 {
		t.Errorf("visitor left: %d %q, want 503 and no body", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	a.render(w, httptest.NewRequest(http.MethodGet, "/", nil), http.StatusOK, failingPage{})
	if w.Code != http.StatusInternalServerError {
		t.Errorf("broken page: %d, want 500", w.Code)
	}
}
