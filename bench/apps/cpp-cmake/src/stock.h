#pragma once

#include <istream>
#include <string>
#include <vector>

struct Item {
    std::string sku;
    std::string name;
    int quantity = 0;
    double unit_price = 0;
};

// readStock reads "sku,name,quantity,unit_price" lines; a first line
// starting with "sku" is a header.
std::vector<Item> readStock(std::istream &in);

double stockValue(const std::vector<Item> &items);

// lowStock lists the items with fewer than threshold units, fewest first.
std::vector<Item> lowStock(std::vector<Item> items, int threshold);
