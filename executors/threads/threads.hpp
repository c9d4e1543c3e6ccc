#pragma once
// Python's threading module for OS threads: every blocking call has a timeout form.
