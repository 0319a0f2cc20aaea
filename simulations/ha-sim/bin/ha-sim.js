#!/usr/bin/env node
// The installed command: the compiled CLI lives in dist/, built by `npm install` (prepare).
import '../dist/cli.js';
