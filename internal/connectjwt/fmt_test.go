package connectjwt

import "fmt"

func fmtSprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }
