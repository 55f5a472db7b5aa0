package testenv

import "net"

// FreeAddrs returns n distinct 127.0.0.1 addresses whose ports are free right now, for processes
// that take an address rather than a listener. The listeners stay open until all n are chosen,
// so the kernel cannot hand out the same port twice; another process may still take one later.
func FreeAddrs(n int) ([]string, error) {
	addrs := make([]string, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer func() { _ = ln.Close() }()
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}
