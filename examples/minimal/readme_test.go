package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestREADMESnippets: every code block of the README marked
// <!-- snippet: PATH --> is PATH's code, line for line (indentation
// aside), so what the README shows is what this example runs and tests.
func TestREADMESnippets(t *testing.T) {
	root := filepath.Join("..", "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(readme), "\n")
	found := 0
	for i, line := range lines {
		path, ok := strings.CutPrefix(strings.TrimSpace(line), "<!-- snippet: ")
		if !ok {
			continue
		}
		path = strings.TrimSuffix(path, " -->")
		if i+1 >= len(lines) || !strings.HasPrefix(strings.TrimSpace(lines[i+1]), "```") {
			t.Errorf("README.md:%d: the snippet marker is not followed by a code block", i+1)
			continue
		}
		var snippet []string
		for _, l := range lines[i+2:] {
			if strings.TrimSpace(l) == "```" {
				break
			}
			snippet = append(snippet, l)
		}
		src, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			t.Errorf("README.md:%d: %v", i+1, err)
			continue
		}
		found++
		if !containsLines(trimmed(strings.Split(string(src), "\n")), trimmed(snippet)) {
			t.Errorf("README.md:%d: the snippet is not %s's code:\n%s", i+1, path, strings.Join(snippet, "\n"))
		}
	}
	if found == 0 {
		t.Fatal("README.md has no snippet markers")
	}
}

// trimmed drops the lines' indentation and the blank lines.
func trimmed(lines []string) []string {
	var out []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// containsLines reports whether part is a run of consecutive lines of whole.
func containsLines(whole, part []string) bool {
	for i := 0; i+len(part) <= len(whole); i++ {
		if slices.Equal(whole[i:i+len(part)], part) {
			return true
		}
	}
	return false
}
