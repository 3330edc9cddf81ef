package iostreams

// ColorScheme paints text with ANSI colours when colour is enabled and
// returns it unchanged otherwise.
type ColorScheme struct{ enabled bool }

// ColorScheme returns the scheme for Out.
func (s *IOStreams) ColorScheme() ColorScheme { return ColorScheme{s.color} }

// ErrColorScheme returns the scheme for ErrOut: it paints when colour is
// enabled (see ColorEnabled) and standard error is a terminal too, so that
// a command's messages are plain in a log file.
func (s *IOStreams) ErrColorScheme() ColorScheme { return ColorScheme{s.color && s.stderrTTY} }

// ColorSchemeFor returns a scheme that paints only when enabled is true.
func ColorSchemeFor(enabled bool) ColorScheme { return ColorScheme{enabled} }

func (c ColorScheme) paint(code, s string) string {
	if !c.enabled {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// Bold returns s in bold.
func (c ColorScheme) Bold(s string) string { return c.paint("1", s) }

// Red returns s in red.
func (c ColorScheme) Red(s string) string { return c.paint("31", s) }

// Green returns s in green.
func (c ColorScheme) Green(s string) string { return c.paint("32", s) }

// Yellow returns s in yellow.
func (c ColorScheme) Yellow(s string) string { return c.paint("33", s) }

// Cyan returns s in cyan.
func (c ColorScheme) Cyan(s string) string { return c.paint("36", s) }

// Gray returns s dimmed.
func (c ColorScheme) Gray(s string) string { return c.paint("90", s) }

// SuccessIcon is a green check mark.
func (c ColorScheme) SuccessIcon() string { return c.Green("✓") }

// FailureIcon is a red cross.
func (c ColorScheme) FailureIcon() string { return c.Red("✗") }

// WarningIcon is a yellow exclamation mark.
func (c ColorScheme) WarningIcon() string { return c.Yellow("!") }
