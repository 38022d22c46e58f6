// Command baseline serves a bare echo handler that answers every GET with
// a constant JSON body: the ceiling against which the API's throughput is
// compared, with the same load generator in the same run.
//
//	go run ./scripts/bench/baseline --addr 127.0.0.1:8081 &
//	wrk -t2 -c32 -d20s http://127.0.0.1:8081/v1/accounts
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to serve on")
	flag.Parse()
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	body := map[string]any{"account_id": "A0000001", "health": 87.5, "band": "yellow"}
	e.GET("/*", func(c echo.Context) error { return c.JSON(http.StatusOK, body) })
	srv := &http.Server{Addr: *addr, Handler: e, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("serving the benchmark baseline at http://%s", *addr)
	log.Fatal(srv.ListenAndServe())
}
