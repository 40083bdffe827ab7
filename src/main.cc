#include "cli/app.h"

int main(int argc, char** argv) { return kiln::cli::Main(argc, argv); }
