#include <cstdio>
#include <fstream>
#include <iostream>

#include "stock.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        std::cerr << "usage: inventory STOCK.csv\n";
        return 2;
    }
    std::ifstream in(argv[1]);
    if (!in) {
        std::cerr << "inventory: cannot read " << argv[1] << "\n";
        return 1;
    }
    try {
        auto items = readStock(in);
        std::printf("%zu items, stock value %.2f\n", items.size(), stockValue(items));
        for (const auto &item : lowStock(items, 10)) {
            std::printf("reorder %-8s %-24s %3d left\n", item.sku.c_str(), item.name.c_str(), item.quantity);
        }
    } catch (const std::exception &e) {
        std::cerr << "inventory: " << argv[1] << ": " << e.what() << "\n";
        return 1;
    }
    return 0;
}
