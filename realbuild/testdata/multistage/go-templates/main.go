// Command site renders a template it reads from its folder at run time.
package main

import (
	"fmt"
	"html/template"
	"os"
)

func main() {
	t, err := template.ParseFiles("templates/page.html")
	if err != nil {
		fmt.Println("parse:", err)
		os.Exit(1)
	}
	t.Execute(os.Stdout, "rendered at run time")
}
