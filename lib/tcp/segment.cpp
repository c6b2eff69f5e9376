#include "tcp/segment.hpp"
