//go:build !linux

package main

import (
	"errors"
	"syscall"
	"time"
)

func childProcAttr() *syscall.SysProcAttr { return nil }

var errNoProc = errors.New("peak RSS is measured on Linux only")

func resetPeakRSS() error     { return errNoProc }
func peakRSS() (int64, error) { return 0, errNoProc }

func cpuTime() time.Duration { return 0 }

type ioCounts struct{ reads, writes, writeBytes int64 }

func ioCount() ioCounts { return ioCounts{} }

func loadAverage() string { return "" }
