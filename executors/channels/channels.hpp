#pragma once
// Channels between processes: queue, simple_queue, joinable_queue (Python's multiprocessing
// queues) and pipe (connection ends).

#include "executors/channels/connection.hpp"
#include "executors/channels/joinable_queue.hpp"
#include "executors/channels/listener.hpp"
#include "executors/channels/pipe.hpp"
#include "executors/channels/queue.hpp"
#include "executors/channels/queue_options.hpp"
#include "executors/channels/simple_queue.hpp"
