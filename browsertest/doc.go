// Package browsertest tests the sandbox's dashboard in a real browser:
// headless Chromium (Debian's chromium package) driven by chromedp. It is
// a module of its own so that the library's import graph never sees
// chromedp.
package browsertest
