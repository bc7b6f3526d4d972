// Command pngcheck checks that a screenshot shows something: it decodes a
// PNG and fails unless the picture has enough distinct colours and
// non-white pixels, and every colour asked for appears in it.
//
//	go run ./scripts/pngcheck -colours '#1f77b4,#ff7f0e' shot.png
//
// scripts/check-report.sh uses it on a screenshot of a drill report.
package main

import (
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"strconv"
	"strings"
)

func main() {
	colours := flag.String("colours", "", "comma-separated #rrggbb colours that must appear")
	minColours := flag.Int("min-colours", 16, "fewest distinct colours")
	minInk := flag.Float64("min-ink", 0.01, "smallest share of pixels that are not white")
	minPixels := flag.Int("min-pixels", 20, "fewest pixels of each colour in -colours")
	tolerance := flag.Int("tolerance", 12, "largest difference per channel counted as the same colour")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: pngcheck [flags] file.png")
		os.Exit(2)
	}
	if err := check(flag.Arg(0), *colours, *minColours, *minInk, *minPixels, *tolerance); err != nil {
		fmt.Fprintln(os.Stderr, "pngcheck:", err)
		os.Exit(1)
	}
}

type rgb struct{ r, g, b int }

func parseColour(s string) (rgb, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "#")
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil || len(s) != 6 {
		return rgb{}, fmt.Errorf("bad colour %q: want #rrggbb", s)
	}
	return rgb{int(v >> 16), int(v >> 8 & 0xff), int(v & 0xff)}, nil
}

func check(path, colours string, minColours int, minInk float64, minPixels, tolerance int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var want []rgb
	if colours != "" {
		for _, c := range strings.Split(colours, ",") {
			w, err := parseColour(c)
			if err != nil {
				return err
			}
			want = append(want, w)
		}
	}
	found := make([]int, len(want))
	distinct := map[rgb]struct{}{}
	b := img.Bounds()
	ink, total := 0, b.Dx()*b.Dy()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			p := pixel(img, x, y)
			distinct[p] = struct{}{}
			if p.r < 245 || p.g < 245 || p.b < 245 {
				ink++
			}
			for i, w := range want {
				if abs(p.r-w.r) <= tolerance && abs(p.g-w.g) <= tolerance && abs(p.b-w.b) <= tolerance {
					found[i]++
				}
			}
		}
	}
	share := float64(ink) / float64(max(total, 1))
	fmt.Printf("pngcheck: %s: %dx%d, %d distinct colours, %.1f%% not white\n", path, b.Dx(), b.Dy(), len(distinct), 100*share)
	var problems []string
	if len(distinct) < minColours {
		problems = append(problems, fmt.Sprintf("only %d distinct colours (want ≥ %d): the page looks blank", len(distinct), minColours))
	}
	if share < minInk {
		problems = append(problems, fmt.Sprintf("only %.2f%% of the pixels are not white (want ≥ %.2f%%)", 100*share, 100*minInk))
	}
	for i, w := range want {
		fmt.Printf("pngcheck: #%02x%02x%02x: %d pixels\n", w.r, w.g, w.b, found[i])
		if found[i] < minPixels {
			problems = append(problems, fmt.Sprintf("colour #%02x%02x%02x appears in %d pixels (want ≥ %d)", w.r, w.g, w.b, found[i], minPixels))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %s", path, strings.Join(problems, "; "))
	}
	return nil
}

func pixel(img image.Image, x, y int) rgb {
	r, g, b, a := img.At(x, y).RGBA()
	// Composite on white, so that transparency reads as the page's background.
	blend := func(c uint32) int { return int((c + (0xffff - a)) >> 8) }
	return rgb{blend(r), blend(g), blend(b)}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
