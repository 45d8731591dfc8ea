export GREETING=from-profile
