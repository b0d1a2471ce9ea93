package plot

import (
	"hash/fnv"
	"image/color"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// A transport keeps one colour and one marker in every figure of every
// run, so a reader who learnt "vermilion diamond = sysvshm-futex" in one
// figure can read the next without its legend. The colours are the
// Okabe–Ito set (distinguishable with the common colour-vision
// deficiencies); yellow is left out, it vanishes on white.
var transportStyles = map[string]markStyle{
	"pipe":            {rgb(0x00, 0x72, 0xB2), glyph{sides: 0}},           // blue circle
	"fifo":            {rgb(0x56, 0xB4, 0xE9), glyph{sides: 4, rot: 45}},  // sky-blue square
	"sysvmsg":         {rgb(0x00, 0x9E, 0x73), glyph{sides: 3, rot: 90}},  // green triangle
	"posixmq":         {rgb(0xE6, 0x9F, 0x00), glyph{sides: 3, rot: -90}}, // orange triangle down
	"sysvshm-sysvsem": {rgb(0xCC, 0x79, 0xA7), glyph{sides: 5, rot: 90}},  // purple pentagon
	"sysvshm-futex":   {rgb(0xD5, 0x5E, 0x00), glyph{sides: 4}},           // vermilion diamond
	"sysvshm-spin":    {rgb(0x33, 0x33, 0x33), glyph{sides: 6}},           // near-black hexagon
	// The POSIX shared-memory channel is the same ring as sysvshm: each
	// variant keeps its wait strategy's colour, as a star.
	"posixshm-futex":    {rgb(0xD5, 0x5E, 0x00), glyph{sides: 4, star: true}},
	"posixshm-spin":     {rgb(0x33, 0x33, 0x33), glyph{sides: 6, star: true}},
	"posixshm-posixsem": {rgb(0xCC, 0x79, 0xA7), glyph{sides: 5, rot: 90, star: true}},
	"posixshm-eventfd":  {rgb(0x88, 0x4E, 0x2A), glyph{sides: 4, rot: 45, star: true}},
	// Sockets: one slate colour, a shape per kind.
	"unixsock-stream":    {rgb(0x66, 0x66, 0x99), glyph{sides: 0}},
	"unixsock-seqpacket": {rgb(0x66, 0x66, 0x99), glyph{sides: 4, rot: 45}},
	"unixsock-dgram":     {rgb(0x66, 0x66, 0x99), glyph{sides: 3, rot: 90}},
	"tcp":                {rgb(0x99, 0x99, 0x33), glyph{sides: 6, star: true}},
}

// extraStyles serve transports the table above does not know, chosen by
// a hash of the name: still the same in every figure and run.
var extraStyles = []markStyle{
	{rgb(0x8C, 0x56, 0x4B), glyph{sides: 3, rot: 90, star: true}},
	{rgb(0x7F, 0x7F, 0x7F), glyph{sides: 4, star: true}},
	{rgb(0x17, 0xBE, 0xCF), glyph{sides: 3, rot: -90, star: true}},
	{rgb(0xBC, 0xBD, 0x22), glyph{sides: 8}},
}

// markStyle is a transport's colour and marker shape.
type markStyle struct {
	Color color.Color
	Glyph glyph
}

func rgb(r, g, b uint8) color.Color { return color.NRGBA{r, g, b, 255} }

// styleOf is the style of a transport, looked up by its name and never
// by its position among the records, so that a figure with fewer
// transports, or a new transport, moves no other transport's colour.
func styleOf(transport string) markStyle {
	if s, ok := transportStyles[transport]; ok {
		return s
	}
	h := fnv.New32a()
	h.Write([]byte(transport))
	return extraStyles[h.Sum32()%uint32(len(extraStyles))]
}

// linkDashes tell link modes of one transport apart (same colour and
// marker: it is the same mechanism), in order of first appearance;
// raw is solid. The C baseline has its own dash (cDashes).
var linkDashes = [][]vg.Length{
	{vg.Points(1), vg.Points(2)},
	{vg.Points(6), vg.Points(2), vg.Points(1), vg.Points(2)},
	{vg.Points(8), vg.Points(4)},
	{vg.Points(2), vg.Points(4)},
}

var cDashes = []vg.Length{vg.Points(4), vg.Points(2)}

// linkGreys colour link modes where they, not transports, are the
// categories (the link-cost bars): greys, so they are never mistaken
// for a transport.
func linkGrey(i, n int) color.Color {
	v := uint8(40)
	if n > 1 {
		v = uint8(40 + 160*i/(n-1))
	}
	return color.NRGBA{v, v, v, 255}
}

// glyph is a marker: a filled regular polygon (sides 0: a circle), a
// star of that many points, hollow for the C baseline and p99 points.
type glyph struct {
	sides  int
	rot    float64 // degrees
	star   bool
	hollow bool
}

var _ draw.GlyphDrawer = glyph{}

// DrawGlyph draws the marker centred at pt.
func (g glyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius
	c.SetColor(sty.Color)
	c.Fill(g.path(pt, r))
	if g.hollow {
		c.SetColor(color.White)
		c.Fill(g.path(pt, r*0.5))
	}
}

func (g glyph) path(pt vg.Point, r vg.Length) vg.Path {
	var p vg.Path
	if g.sides == 0 {
		p.Move(vg.Point{X: pt.X + r, Y: pt.Y})
		p.Arc(pt, r, 0, 2*math.Pi)
		p.Close()
		return p
	}
	n := g.sides
	step := 2 * math.Pi / float64(n)
	if g.star {
		step /= 2
		n *= 2
	}
	for i := 0; i < n; i++ {
		a := g.rot*math.Pi/180 + float64(i)*step
		rr := r
		if g.star && i%2 == 1 {
			rr = r * 0.45
		}
		q := vg.Point{X: pt.X + rr*vg.Length(math.Cos(a)), Y: pt.Y + rr*vg.Length(math.Sin(a))}
		if i == 0 {
			p.Move(q)
		} else {
			p.Line(q)
		}
	}
	p.Close()
	return p
}

// styleScatter gives points a transport's marker.
func styleScatter(s *plotter.Scatter, transport string, hollow bool) {
	st := styleOf(transport)
	g := st.Glyph
	g.hollow = hollow
	s.GlyphStyle = draw.GlyphStyle{Color: st.Color, Radius: vg.Points(4), Shape: g}
}
