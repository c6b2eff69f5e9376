#include "wire/tcp_options.hpp"
