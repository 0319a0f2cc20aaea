#!/usr/bin/env node
console.log('allerac');
