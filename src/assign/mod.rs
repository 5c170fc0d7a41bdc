//! Assigners: which anchors are positive, negative or ignored for a set of GT boxes.
//! (MaxIoU and ATSS land here.)
