#pragma once
// Everything an application needs: the API and the launcher.
#include "synmill/app.hpp"
#include "synmill/run.hpp"
#include "synmill/version.hpp"
