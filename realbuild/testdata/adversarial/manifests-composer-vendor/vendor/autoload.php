<?php // host autoload
