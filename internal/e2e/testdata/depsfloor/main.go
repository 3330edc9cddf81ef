// Command depsfloor links the libraries jwh is built on (cobra, golang-jwt,
// go-keyring, tablewriter, net/http) and only prints a line: the start-up
// floor that BenchmarkStartup compares jwh with.
package main

import (
	"fmt"
	_ "net/http"

	_ "github.com/golang-jwt/jwt/v5"
	_ "github.com/olekukonko/tablewriter"
	_ "github.com/spf13/cobra"
	_ "github.com/zalando/go-keyring"
)

func main() { fmt.Println("hello, world") }
