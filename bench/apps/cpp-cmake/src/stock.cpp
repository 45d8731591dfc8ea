#include "stock.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

std::vector<Item> readStock(std::istream &in) {
    std::vector<Item> items;
    std::string line;
    int lineNo = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        if (line.empty() || (lineNo == 1 && line.rfind("sku", 0) == 0)) {
            continue;
        }
        std::stringstream fields(line);
        Item item;
        std::string quantity, price;
        if (!std::getline(fields, item.sku, ',') || !std::getline(fields, item.name, ',') ||
            !std::getline(fields, quantity, ',') || !std::getline(fields, price, ',')) {
            throw std::runtime_error("line " + std::to_string(lineNo) + ": want 4 fields");
        }
        item.quantity = std::stoi(quantity);
        item.unit_price = std::stod(price);
        items.push_back(item);
    }
    return items;
}

double stockValue(const std::vector<Item> &items) {
    double total = 0;
    for (const auto &item : items) {
        total += item.quantity * item.unit_price;
    }
    return total;
}

std::vector<Item> lowStock(std::vector<Item> items, int threshold) {
    items.erase(std::remove_if(items.begin(), items.end(),
                               [threshold](const Item &i) { return i.quantity >= threshold; }),
                items.end());
    std::stable_sort(items.begin(), items.end(),
                     [](const Item &a, const Item &b) { return a.quantity < b.quantity; });
    return items;
}
