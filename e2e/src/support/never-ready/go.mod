module kok.dev/e2e/never-ready

go 1.26
